"""The perceptual hash as evidence/photo.py makes it and the domain compares stored ones: its name, its
distance, and how near two hashes are for the same picture."""

#: Version tag of the perceptual hash, to store beside it: hashes of different
#: versions must not be compared.
PERCEPTUAL_HASH_ALGORITHM = "dhash64-v1"
#: Hamming distance up to which two hashes are taken for the same picture
#: (re-encoded, resized, lightly recompressed by a messaging app).
SAME_PHOTO_MAX_DISTANCE = 6


def hash_distance(a: int, b: int) -> int:
    """Hamming distance between two perceptual hashes (signed or unsigned form)."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()
