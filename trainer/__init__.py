"""Corpus, vocabulary, model, training, sampling and evaluation for lstm-complete."""
