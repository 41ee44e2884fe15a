"""The next-action labels of the demo (issue 24): their check script and README."""
