"""Page objects: one class per console page, holding every selector, so a changed template breaks one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 10


def _arrived(driver: WebDriver) -> bool:
    """A new document is loaded (the old one's mark is gone); any answer given mid-navigation means not yet."""
    try:
        return driver.execute_script(
            "return window.__fieldwatchLeaving === undefined && document.readyState === 'complete'"
        )
    except WebDriverException:
        return False


def _gone(element) -> bool:
    """The element has left the document (chromedriver may say so with an unknown error, see below)."""
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise


class Page:
    #: What identifies the page once loaded.
    marker: tuple[str, str] = (By.TAG_NAME, "main")

    def __init__(self, driver: WebDriver, base: str):
        self.driver, self.base = driver, base
        WebDriverWait(driver, WAIT_S).until(ready.presence_of_element_located(self.marker))

    def navigate(self, action) -> None:
        """Run ``action`` (a click) and wait until the browser has left this page and loaded the next.

        The old document is marked by a window property rather than watched through an element
        reference: while a document is being replaced, chromedriver may answer a question about an
        old element with "Node with given id does not belong to the document" (an unknown error,
        not a stale reference), which made ``staleness_of`` fail at random.
        """
        self.driver.execute_script("window.__fieldwatchLeaving = true")
        action()
        WebDriverWait(self.driver, WAIT_S).until(_arrived)

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
        WebDriverWait(self.driver, WAIT_S).until(lambda _: _gone(end))
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



# -- part 2: versions, cases, figures, map, people ------------------------------------------------


class RecordHistory:
    """What the record page says about versions and the photo's place (part 2)."""

    def __init__(self, page: RecordPage):
        self.page = page

    def changed_cells(self) -> list[str]:
        return [c.text for c in self.page.find_all('[data-test="changed-cell"]')]

    def version_columns(self) -> int:
        return len(self.page.find_all('[data-test="versions"] thead th')) - 1

    def photo_distance(self) -> str:
        return self.page.find('[data-test="photo-distance"]').text

    def map_ready(self) -> bool:
        """maps.js has drawn the small map (Leaflet made its container)."""
        WebDriverWait(self.page.driver, WAIT_S).until(
            lambda d: self.page.find('[data-test="photo-map"]').get_attribute("data-ready") == "1")
        return bool(self.page.find_all('[data-test="photo-map"].leaflet-container'))

    def custody_entries(self) -> int:
        return len(self.page.find_all('[data-test="custody-entry"]'))


def accept(record: RecordPage, comment: str = "") -> RecordPage:
    record._decide("accepted", comment)
    WebDriverWait(record.driver, WAIT_S).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, '[data-test="decided"]')))
    return RecordPage(record.driver, record.base)


class CaseBoardPage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="case-board"]')

    @classmethod
    def open(cls, driver: WebDriver, base: str) -> CaseBoardPage:
        driver.get(f"{base}/console/cases")
        return cls(driver, base)

    def numbers_in(self, state: str) -> list[str]:
        return [c.get_attribute("data-number")
                for c in self.find_all(f'[data-test="column-{state}"] [data-test="case-card"]')]

    def open_case(self, number: str) -> CasePage:
        self.navigate(lambda: self.find(f'[data-number="{number}"]').click())
        return CasePage(self.driver, self.base)


class CasePage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="case-state"]')

    def state(self) -> str:
        return self.find('[data-test="case-state"]').text

    def move(self, to: str) -> CasePage:
        self.navigate(lambda: self.find(f'[data-test="move-{to}"]').click())
        return CasePage(self.driver, self.base)

    def gates_done(self) -> int:
        return len(self.find_all('[data-test^="gate-"][data-done="yes"]'))

    def record_gate(self, gate: str, note: str) -> CasePage:
        self.find(f'[data-test="open-gate-{gate}"]').click()
        form = self.find(f'[data-test="gate-form-{gate}"]')
        form.find_element(By.CSS_SELECTOR, 'textarea[name="note"]').send_keys(note)
        for box in form.find_elements(By.CSS_SELECTOR, 'input[name="evidence"]'):
            box.click()
        self.navigate(lambda: self.find(f'[data-test="record-gate-{gate}"]').click())
        return CasePage(self.driver, self.base)

    def can_close(self) -> bool:
        return bool(self.find_all('[data-test="move-closed"]'))

    def timeline(self) -> list[str]:
        return [e.text for e in self.find_all('[data-test="timeline-entry"]')]


class FiguresPage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="period-form"]')

    @classmethod
    def open(cls, driver: WebDriver, base: str) -> FiguresPage:
        driver.get(f"{base}/console/figures")
        return cls(driver, base)

    def charts(self) -> int:
        return len(self.find_all("svg.chart"))

    def csv_links(self) -> list[str]:
        return [a.get_attribute("href") for a in self.find_all('a[data-test^="csv-"]')]


class MapPage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="map"]')

    @classmethod
    def open(cls, driver: WebDriver, base: str) -> MapPage:
        driver.get(f"{base}/console/map")
        page = cls(driver, base)
        try:
            WebDriverWait(driver, WAIT_S).until(
                lambda d: page.find('[data-test="map"]').get_attribute("data-ready") == "1")
        except Exception as timeout:
            raise AssertionError(f"the map was not drawn: {driver.get_log('browser')}") from timeout
        return page

    def markers(self) -> int:
        """Markers and clusters drawn (SVG paths of circle markers, cluster icons)."""
        return len(self.find_all(".leaflet-interactive")) + len(self.find_all(".marker-cluster"))


class PersonPage(Page):
    marker = (By.CSS_SELECTOR, '[data-test="person-name"]')

    @classmethod
    def open(cls, driver: WebDriver, base: str, user_id) -> PersonPage:
        driver.get(f"{base}/console/people/{user_id}")
        return cls(driver, base)

    def make_code(self) -> PersonPage:
        self.navigate(lambda: self.find('[data-test="make-code"]').click())
        return PersonPage(self.driver, self.base)

    def qr_png(self) -> bytes:
        """The QR code as the screen shows it (a phone's camera would see these pixels)."""
        return self.find('[data-test="enroll-qr"]').screenshot_as_png

    def devices(self) -> list[str]:
        return [r.find_element(By.TAG_NAME, "td").text for r in self.find_all('[data-test="device-row"]')]

    def revoke(self, device_name: str) -> PersonPage:
        row = next(r for r in self.find_all('[data-test="device-row"]')
                   if r.find_element(By.TAG_NAME, "td").text == device_name)
        self.navigate(lambda: row.find_element(By.CSS_SELECTOR, '[data-test="revoke"]').click())
        return PersonPage(self.driver, self.base)


class BallotPage(Page):
    """The rater's questionnaire at /e/<code> (web/public/templates/public/ballot.html), and its receipt."""

    marker = (By.CSS_SELECTOR, "main.mobile")

    @classmethod
    def open(cls, driver: WebDriver, base: str, code: str) -> BallotPage:
        driver.get(f"{base}/e/{code}")
        return cls(driver, base)

    def grade(self, question: str, grade: int) -> None:
        self.find(f'fieldset[data-name="{question}"] input[value="{grade}"]').click()

    def checked(self, question: str) -> str | None:
        found = self.find_all(f'fieldset[data-name="{question}"] input:checked')
        return found[0].get_attribute("value") if found else None

    def write(self, question: str, text: str) -> None:
        self.find(f'fieldset[data-name="{question}"] textarea').send_keys(text)

    def written(self, question: str) -> str:
        return self.find(f'fieldset[data-name="{question}"] textarea').get_attribute("value")

    def submit(self) -> None:
        self.find("form.ballot button[type=submit]").click()

    def status(self) -> str:
        return self.find("#ballot-status").text

    def wait_for_status(self, words: str) -> str:
        WebDriverWait(self.driver, WAIT_S).until(lambda d: words in self.status())
        return self.status()

    def form_shown(self) -> bool:
        found = self.find_all("form.ballot")
        return bool(found) and found[0].is_displayed()

    def wait_for_receipt(self, seconds: float = 30) -> str:
        WebDriverWait(self.driver, seconds).until(
            lambda d: self.find("#receipt").is_displayed() and self.find("#receipt .receipt-no").text.strip())
        return self.find("#receipt .receipt-no").text.strip()

    def receipt_text(self) -> str:
        return self.find("#receipt").text

    def reply(self) -> str:
        return self.find("#receipt .reply-text").text

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
