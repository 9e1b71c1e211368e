"""ExifData Analytics: index AI-image generation metadata into SQLite and analyse it."""

__version__ = "0.1.0"
