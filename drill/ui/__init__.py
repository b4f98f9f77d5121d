"""Terminal rendering and key input (rich). The core never imports this package.

May import: any part but `cli`; rich.
Must not import: `cli` or typer: screens are driven by the commands, not the reverse.
"""
