"""Running Ventanilla: training, starting the processes, waiting for health."""
