"""Staff accounts of the console: users with roles, passwords, sessions and login throttling."""
