"""Training the magnetic potential: config, masked losses, trainer, metrics, data-efficiency study."""
