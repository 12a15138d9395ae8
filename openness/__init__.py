"""The public's pages: how the organisation and each unit handle reports, with no login."""
