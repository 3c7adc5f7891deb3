"""The change board, its calendar and a change's own screen with its forms."""
