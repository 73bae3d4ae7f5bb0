"""tap-analytics: a Singer tap for analytics REST APIs configured in dlt's rest_api shape."""
