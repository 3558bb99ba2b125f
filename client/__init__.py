"""The command-line client: pack files into zips, upload, wait, download."""
