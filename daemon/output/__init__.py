"""What a person reads on a terminal: tables, explanations and JSON renderings."""
