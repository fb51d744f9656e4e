"""n-gram reference language models built here: SentencePiece tokenization, modified Kneser-Ney
estimation written as ARPA (kneser_ney), and perplexity scoring with KenLM's query module (model)."""
