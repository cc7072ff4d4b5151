"""Reports over the course side: progress and at-risk, funders' outcomes, transcripts, grade exports,
with small-group suppression; HTML, tables, CSV and PDF. Reads graders.programme, never writes it."""
