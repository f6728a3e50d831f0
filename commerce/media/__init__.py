"""Product images: checked by their content, stored under a hashed name, served by URL."""
