"""Contact-point reports of liaisons and visits of leaders."""
