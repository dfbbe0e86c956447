"""Onboarding: proposing a source for a site (``crawler sources add``) and moving feeds in and out of feed
readers (OPML). Decisions (infer, draft) are pure; probe does the fetching, draft the one config write."""
