"""Owner notifications: the digests (pure) and the notifier that delivers them."""
