"""The owner's lists (shopping, to-do): markdown in the home folder, and bridged ones."""
