"""Generated messages and stubs of sessiond.v1 (generate.sh writes them; they are not committed)."""
