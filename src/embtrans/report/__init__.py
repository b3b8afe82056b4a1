"""The report: a readable HTML/Markdown write-up of an analysed sweep."""
