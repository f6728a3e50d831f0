"""Customer service: the FAQ knowledge base and conversations with followers (filled in by the
bot issue)."""
