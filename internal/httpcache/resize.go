package httpcache

import "github.com/edgeward/edgeward/internal/size"

// Resize applies a reloaded cache section to the running store without
// dropping what it holds: max_size becomes the new weight bound (the least
// valuable objects are evicted at once if the store is over it) and
// max_object_size bounds the responses stored from now on.
func (s *Store) Resize(cfg StoreConfig) error {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.cache.SetMaximum(uint64(cfg.MaxSize))
	s.maxObject.Store(int64(cfg.MaxObjectSize))
	return nil
}

// Limits returns the store's current bounds, as Resize last set them.
func (s *Store) Limits() StoreConfig {
	return StoreConfig{MaxSize: size.Bytes(s.cache.GetMaximum()), MaxObjectSize: size.Bytes(s.maxObject.Load())}
}
