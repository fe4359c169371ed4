// Package accesslog writes edgeward's request records: the access log, with
// CloudFront's standard-log fields in CloudFront's order and encoding, and
// the line sink that both the access log and the decision log write through.
//
// It sits at the very end of the request flow. When the edge has written a
// response it calls Log.Log (the edge.Logger stage) with the request and its
// record; Log formats one line into a pooled buffer and hands it to a Sink,
// which writes lines on its own goroutine. A request never waits for the
// disk: when the sink's queue is full the line is dropped and counted.
//
// The "cloudfront" format is CloudFront's standard log (legacy) file format:
// W3C extended log format, tab-separated, "#Version" and "#Fields" header
// lines at the start of every file, "-" for an empty value, and CloudFront's
// URL-encoding of spaces, control bytes, bytes >= 127 and the characters
// <>"#%{}|\^~[]`' in field values. The "json" format writes one JSON object
// per line with the same field names, unencoded string values and numbers
// as JSON numbers.
package accesslog
