"""Identity and privacy: staff, members and kiosks, signing in, consent and erasure."""
