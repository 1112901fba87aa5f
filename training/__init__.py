"""Training-side code: corpus readers, thesaurus compilation and the spun/clean pair builder."""
