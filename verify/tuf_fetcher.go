package verify

import "time"

// offlineFetcher is the TUF metadata fetcher of offline mode: it refuses every download, so the
// TUF client can only use its cache.
type offlineFetcher struct{}

// DownloadFile implements go-tuf's fetcher.Fetcher.
func (offlineFetcher) DownloadFile(urlPath string, maxLength int64, timeout time.Duration) ([]byte, error) {
	return nil, errOffline
}
