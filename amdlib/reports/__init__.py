"""Reports: tables (CSV + Markdown), figures, the paper's numbers, and the results page builder."""
