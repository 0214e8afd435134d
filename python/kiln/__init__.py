"""kiln: a JIT-compiling array framework with MLX's API. `import kiln.core as mx`."""
