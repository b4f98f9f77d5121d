"""Terminal rendering and key input (rich). The core never imports this package."""
