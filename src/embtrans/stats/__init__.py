"""Statistics for multi-seed studies: confidence intervals and paired comparisons."""
