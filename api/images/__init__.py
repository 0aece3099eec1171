"""Guest images the controller builds itself: the default Debian image (default_image.py)."""
