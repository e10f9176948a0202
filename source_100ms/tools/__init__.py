"""Command-line tools around the Airbyte protocol: demo, preview, path suggestions."""
