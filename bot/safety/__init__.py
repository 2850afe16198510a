"""The safety layer: the crisis screen and the crisis reply."""
