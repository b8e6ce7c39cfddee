"""Page objects: one class per console page, holding every selector, so a changed template breaks one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 10


class Page:
    #: What identifies the page once loaded.
    marker: tuple[str, str] = (By.TAG_NAME, "main")

    def __init__(self, driver: WebDriver, base: str):
        self.driver, self.base = driver, base
        WebDriverWait(driver, WAIT_S).until(ready.presence_of_element_located(self.marker))

    def navigate(self, action) -> None:
        """Run ``action`` (a click) and wait until the browser has left this page."""
        old = self.find("main")
        action()
        WebDriverWait(self.driver, WAIT_S).until(ready.staleness_of(old))

    def find(self, selector: str):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def find_all(self, selector: str):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def text(self) -> str:
        return self.find("main").text

    def screenshot(self, folder: Path, name: str) -> Path:
        path = folder / f"{name}.png"
        # The whole page, not only the window: set the window to the document's height first.
        size = self.driver.get_window_size()
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(size["width"], max(height + 120, 700))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(size["width"], size["height"])
        return path

    def phone_screenshot(self, folder: Path, name: str) -> Path:
        """The whole page in an emulated phone viewport (a window resize would not change it): DevTools' capture."""
        import base64

        path = folder / f"{name}.png"
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def image_loaded(self, element) -> bool:
        return self.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", element)

    def sign_out(self) -> SignInPage:
        self.navigate(lambda: self.find('[data-test="sign-out"]').click())
        return SignInPage(self.driver, self.base)


class SignInPage(Page):
    marker = (By.CSS_SELECTOR, "section.sign-in")

    @classmethod
    def open(cls, driver: WebDriver, base: str) -> SignInPage:
        driver.get(f"{base}/console/sign-in")
        return cls(driver, base)

    def _submit(self, username: str, password: str) -> None:
        self.find('input[name="username"]').clear()
        self.find('input[name="username"]').send_keys(username)
        self.find('input[name="password"]').send_keys(password)
        self.navigate(lambda: self.find('section.sign-in button[type="submit"]').click())

    def sign_in(self, username: str, password: str) -> QueuePage:
        self._submit(username, password)
        return QueuePage(self.driver, self.base)

    def sign_in_failing(self, username: str, password: str) -> SignInPage:
        self._submit(username, password)
        WebDriverWait(self.driver, WAIT_S).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, '[data-test="sign-in-error"]')))
        return SignInPage(self.driver, self.base)

    def error(self) -> str:
        found = self.find_all('[data-test="sign-in-error"]')
        return found[0].text if found else ""

    def signed_out_note(self) -> str:
        found = self.find_all('[data-test="signed-out"]')
        return found[0].text if found else ""


@dataclass
class QueueRowView:
    record_id: str
    kind: str
    about: str
    text: str
    submitter: str
    flags: list[str]
    thumbs: list


class QueuePage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="filters"]')

    @classmethod
    def open(cls, driver: WebDriver, base: str, query: str = "") -> QueuePage:
        driver.get(f"{base}/console/{query}")
        return cls(driver, base)

    def user(self) -> str:
        return self.find('[data-test="user"]').text

    def rows(self) -> list[QueueRowView]:
        views = []
        for tr in self.find_all('[data-test="queue-row"]'):
            cells = tr.find_elements(By.TAG_NAME, "td")
            views.append(QueueRowView(
                record_id=tr.get_attribute("data-record"), kind=cells[1].text, about=cells[2].text,
                text=cells[3].text, submitter=tr.find_element(By.CSS_SELECTOR, '[data-test="submitter"]').text,
                flags=[f.text for f in tr.find_elements(By.CSS_SELECTOR, '[data-test="flag"]')],
                thumbs=tr.find_elements(By.CSS_SELECTOR, '[data-test="thumb"]')))
        return views

    def row(self, record_id) -> QueueRowView:
        return next(r for r in self.rows() if r.record_id == str(record_id))

    def filter_by_kind(self, kind_label: str) -> QueuePage:
        from selenium.webdriver.support.ui import Select

        Select(self.find('select[name="kind"]')).select_by_visible_text(kind_label)
        self.navigate(lambda: self.find('[data-test="filters"] button[type="submit"]').click())
        return QueuePage(self.driver, self.base)

    def more(self) -> int:
        """Click "more" (htmx appends the next page in place); the number of rows after."""
        end = self.find('[data-test="queue-end"]')
        self.find('[data-test="more"]').click()
        # htmx swaps the end of the table (the link's tbody) for the next rows and a new end.
        WebDriverWait(self.driver, WAIT_S).until(ready.staleness_of(end))
        WebDriverWait(self.driver, WAIT_S).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, '[data-test="queue-end"]')))
        return len(self.find_all('[data-test="queue-row"]'))

    def open_record(self, record_id) -> RecordPage:
        self.navigate(lambda: self.find(f'tr[data-record="{record_id}"] [data-test="open"]').click())
        return RecordPage(self.driver, self.base)


class RecordPage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="state"]')

    def state(self) -> str:
        return self.find('[data-test="state"]').text

    def preview(self):
        return self.find('[data-test="preview"]')

    def evidence_flags(self) -> list[str]:
        return [f.text.split("\n")[0] for f in self.find_all('[data-test="evidence-flag"]')]

    def record_flags(self) -> list[str]:
        return [f.text for f in self.find_all('[data-test="flag"]')]

    def comments(self) -> list[str]:
        return [c.text for c in self.find_all('[data-test="comment"]')]

    def decided_note(self) -> str:
        found = self.find_all('[data-test="decided"]')
        return found[0].text if found else ""

    def _decide(self, state: str, comment: str) -> None:
        box = self.find('[data-test="review-form"] textarea[name="comment"]')
        box.clear()
        box.send_keys(comment)
        self.navigate(lambda: self.find(f'[data-test="decide-{state}"]').click())

    def ask_for_more_information(self, comment: str) -> RecordPage:
        self._decide("needs_info", comment)
        WebDriverWait(self.driver, WAIT_S).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, '[data-test="decided"]')))
        return RecordPage(self.driver, self.base)

    def post_decision_without_csrf_token(self, state: str, comment: str) -> ErrorPage:
        """What a forged form does: the same POST with no token (the hidden field removed)."""
        self.driver.execute_script(
            "document.querySelector('[data-test=\"review-form\"] input[name=\"csrf_token\"]').remove()")
        self._decide(state, comment)
        return ErrorPage(self.driver, self.base)

    def back_to_queue(self) -> QueuePage:
        self.navigate(lambda: self.find("p.crumbs a").click())
        return QueuePage(self.driver, self.base)


class ErrorPage(Page):
    marker = (By.CSS_SELECTOR, "section.error-page")

    def status(self) -> str:
        return self.find("section.error-page").get_attribute("data-status")


class PublicLandingPage(Page):
    marker = (By.CSS_SELECTOR, "main.mobile")

    @classmethod
    def open(cls, driver: WebDriver, base: str) -> PublicLandingPage:
        driver.get(f"{base}/")
        return cls(driver, base)

    def file_a_complaint(self) -> ComplaintFormPage:
        self.navigate(lambda: self.find('[data-test="file-complaint"]').click())
        return ComplaintFormPage(self.driver, self.base)


# -- the public complaint pages (web/public/complaints.py) ----------------------------------------


class ComplaintFormPage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="complaint-form"]')

    def choose_category(self, label: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.find('select[name="category"]')).select_by_visible_text(label)

    def write(self, name: str, text: str) -> None:
        box = self.find(f'[data-test="complaint-form"] [name="{name}"]')
        box.clear()
        box.send_keys(text)

    def attach_photos(self, *paths: Path) -> None:
        self.find('input[type="file"][name="photos"]').send_keys("\n".join(str(p) for p in paths))

    def map_ready(self) -> bool:
        """The map drew its tiles (Leaflet marks each loaded tile)."""
        WebDriverWait(self.driver, WAIT_S).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, "#complaint-map img.leaflet-tile-loaded")))
        return True

    def pick_on_map(self, dx: int = 30, dy: int = -20) -> tuple[str, str]:
        """Tap the map a little off its centre; the place the form will send (lon, lat)."""
        from selenium.webdriver.common.action_chains import ActionChains

        box = self.find("#complaint-map")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        ActionChains(self.driver).move_to_element_with_offset(box, dx, dy).click().perform()
        WebDriverWait(self.driver, WAIT_S).until(
            ready.visibility_of_element_located((By.CSS_SELECTOR, '[data-test="picked"]')))
        return (self.find('input[name="lon"]').get_attribute("value"),
                self.find('input[name="lat"]').get_attribute("value"))

    def send(self) -> ComplaintReceiptPage:
        self.navigate(lambda: self.find('[data-test="submit"]').click())
        return ComplaintReceiptPage(self.driver, self.base)


class ComplaintReceiptPage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="receipt"]')

    def tracking_number(self) -> str:
        return self.find('[data-test="tracking-number"]').text.strip()

    def secret(self) -> str:
        return self.find('[data-test="secret"]').text.strip()

    def photo_note(self) -> str:
        found = self.find_all('[data-test="photo-count"]')
        return found[0].text if found else ""

    def follow(self) -> ComplaintStatusPage:
        self.navigate(lambda: self.find('[data-test="follow-link"]').click())
        return ComplaintStatusPage(self.driver, self.base)


class ComplaintFollowPage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="follow-form"]')

    @classmethod
    def open(cls, driver: WebDriver, base: str) -> ComplaintFollowPage:
        driver.get(f"{base}/complaints/follow")
        return cls(driver, base)

    def show(self, tracking_number: str, secret: str) -> ComplaintStatusPage:
        self.find('input[name="tracking_number"]').send_keys(tracking_number)
        self.find('input[name="secret"]').send_keys(secret)
        self.navigate(lambda: self.find('[data-test="follow-form"] button[type="submit"]').click())
        return ComplaintStatusPage(self.driver, self.base)


class ComplaintStatusPage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="status"]')

    @classmethod
    def open(cls, driver: WebDriver, base: str) -> ComplaintStatusPage:
        """The phone's own complaint (its cookie)."""
        driver.get(f"{base}/complaints/follow")
        return cls(driver, base)

    def state(self) -> str:
        return self.find('[data-test="state"]').get_attribute("data-state")

    def state_text(self) -> str:
        return self.find('[data-test="state"]').text

    def answers(self) -> list[str]:
        return [a.text for a in self.find_all('[data-test="answer"]')]

    def may_rate(self) -> bool:
        return bool(self.find_all('[data-test="rate-form"]'))

    def rate(self, rating_value: str, resolved: bool, text: str = "") -> ComplaintStatusPage:
        form = self.find('[data-test="rate-form"]')
        form.find_element(By.CSS_SELECTOR, f'input[name="rating"][value="{rating_value}"]').click()
        form.find_element(By.CSS_SELECTOR, f'input[name="resolved"][value="{"yes" if resolved else "no"}"]').click()
        if text:
            form.find_element(By.CSS_SELECTOR, 'textarea[name="text"]').send_keys(text)
        self.navigate(lambda: self.find('[data-test="rate-submit"]').click())
        return ComplaintStatusPage(self.driver, self.base)

    def thanked(self) -> bool:
        return bool(self.find_all('[data-test="rated"]'))

    def rating(self) -> str:
        found = self.find_all('[data-test="rating"]')
        return found[0].text if found else ""
