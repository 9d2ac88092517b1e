"""Release packaging: archives honouring ignore files, sha256 checksums, safe extraction, publishing."""
