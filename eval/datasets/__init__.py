"""Evaluation datasets and the scripts that build and check them."""
