"""The viewing copies of a photo: upright (EXIF orientation applied), display mode, sRGB, shrunk, re-encoded
as metadata-free JPEG; and the difference hash of the picture."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageCms

from .photo_open import _getexif


_TAG_ORIENTATION = 0x0112

_TRANSPOSE_FOR_ORIENTATION: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation_to_apply(im: Image.Image) -> int:
    # For HEIF, pillow-heif has already reset EXIF Orientation to 1 because libheif
    # applies the container rotation, and for AVIF Pillow rewrites it from the
    # container's irot/imir; so the EXIF value read after opening is the one
    # transform still owed, whatever the format. Applied once, in _render.
    try:
        value = _getexif(im).get(_TAG_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - damaged EXIF: show the pixels as stored
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE_FOR_ORIENTATION else 1


def _render(im: Image.Image, box: tuple[int, int], orientation: int) -> Image.Image:
    """The preview: display mode, sRGB, scaled into ``box``, flattened, upright, no metadata."""
    icc = im.info.get("icc_profile")
    out = _display_mode(im)
    if out.size != box:
        # The resize is most of the CPU after decoding, so: area averaging (BOX),
        # after whole-factor reductions (reducing_gap=1) for a full HEIF decode.
        # Measured on 12 MP phone JPEGs against a full-size LANCZOS reference,
        # BOX scores 36-40 dB PSNR, like BILINEAR and about what the JPEG
        # encoding at PREVIEW_QUALITY costs anyway; it takes 13.6 ms where
        # BILINEAR takes 20 and BICUBIC 33 (2016x1512 -> 1280x960).
        out = out.resize(box, Image.Resampling.BOX, reducing_gap=1.0)
    if out is im:
        out = im.copy()  # what follows may work in place, and im is closed after us
    out = _flatten_alpha(out)
    if icc and out.mode in ("RGB", "CMYK"):
        out = _to_srgb(out, icc)
    if out.mode not in ("RGB", "L"):
        out = out.convert("RGB")
    if orientation in _TRANSPOSE_FOR_ORIENTATION:
        out = out.transpose(_TRANSPOSE_FOR_ORIENTATION[orientation])
    # Resize and convert copy the source's info (EXIF, XMP, ICC, comments);
    # the derivative starts with none, and _encode_jpeg passes none explicitly.
    out.info = {}
    return out


def _display_mode(im: Image.Image) -> Image.Image:
    """The image in L, LA, RGB, RGBA or CMYK, the modes resizing handles well."""
    mode = im.mode
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return im
    if mode in ("P", "PA"):
        return im.convert("RGBA" if "transparency" in im.info or mode == "PA" else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I;16") or mode == "I":
        # 16-bit greyscale (PNG): scale to 8 bits rather than clip at 255.
        wide = im if mode == "I" else im.convert("I")
        return wide.point(lambda value: value * (1 / 256)).convert("L")
    if mode == "F":
        return im.convert("L")
    if mode in ("La", "RGBa"):  # premultiplied alpha
        return im.convert("LA" if mode == "La" else "RGBA")
    return im.convert("RGB")


def _flatten_alpha(im: Image.Image) -> Image.Image:
    if im.mode not in ("RGBA", "LA"):
        return im
    # JPEG has no alpha; transparent areas become white, as viewers show them.
    base = Image.new(im.mode[:-1], im.size, 255 if im.mode == "LA" else (255, 255, 255))
    base.paste(im, mask=im.getchannel("A"))
    return base


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    transform = _srgb_transform(bytes(icc), im.mode)
    if transform is None:
        return im
    try:
        if im.mode == "RGB":
            ImageCms.applyTransform(im, transform, inPlace=True)  # our own copy: no allocation
            return im
        return ImageCms.applyTransform(im, transform) or im
    except (ImageCms.PyCMSError, ValueError, OSError):
        return im


@lru_cache(maxsize=32)
def _srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    # Phones tag photos Display P3 (iPhone) or sRGB; the derivative carries no
    # profile, so it must be sRGB in fact or viewers show P3 photos washed out.
    # Building a transform costs milliseconds, hence the cache keyed by profile.
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if mode == "RGB" and "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
            return None
        return ImageCms.buildTransform(
            source, ImageCms.createProfile("sRGB"), mode, "RGB",
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
        )
    except (ImageCms.PyCMSError, ValueError, OSError, TypeError):
        return None  # an unreadable profile: the pixels are taken as sRGB


def _shrink(im: Image.Image, box: tuple[int, int]) -> Image.Image:
    if im.size == box:
        return im.copy()
    # The thumbnail comes from the preview, about a whole factor (4) away: a box
    # reduction by that factor, then BICUBIC for the rest; under a millisecond.
    out = im.resize(box, Image.Resampling.BICUBIC, reducing_gap=1.0)
    out.info = {}
    return out


def _encode_jpeg(im: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # Every metadata carrier is passed empty on purpose: Pillow would otherwise
    # take a comment from im.info, and a caller's exif= would copy GPS along.
    im.save(
        buffer, "JPEG", quality=quality, exif=b"", icc_profile=None, comment=b"", xmp=b"",
        optimize=False, progressive=False,
    )
    return buffer.getvalue()


def _dhash(im: Image.Image) -> int:
    """64-bit difference hash: is each pixel brighter than its right neighbour, on a 9x8 grey grid.

    Chosen over imagehash's pHash to add no dependency (numpy, scipy, PyWavelets)
    for a check that only has to recognise the same photo re-sent, re-encoded or
    resized; both are blind to crops. Computed from the upright thumbnail, so the
    same picture stored with a different orientation flag hashes alike.
    """
    grey = im.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = grey.tobytes()
    value = 0
    for row in range(8):
        for col in range(8):
            value = (value << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return value
