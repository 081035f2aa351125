"""Answering: question (+ history) and passages -> an Answer with checked, numbered citations."""
