"""Reading documents: one loader per format, cleaning, the document model of blocks, chunking, sentences."""
