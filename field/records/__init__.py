"""Field records of any kind: submission, review, the review queue, exports."""
