"""The analysis figures: matplotlib plots, the UMAP projection, and where each figure is written."""
