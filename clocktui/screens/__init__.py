"""The console's screens: main, detail, help."""
