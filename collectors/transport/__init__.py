"""Wire protocols shared by every driver; drivers never open sockets themselves."""
