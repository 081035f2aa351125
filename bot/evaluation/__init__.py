"""`citebot eval`: run a question file through retrieval and answering, and measure the results."""
