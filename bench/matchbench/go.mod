module github.com/qunguan/qunguan/bench/matchbench

go 1.26.8

replace github.com/qunguan/qunguan => ../..

require (
	github.com/BobuSumisu/aho-corasick v1.0.3
	github.com/cloudflare/ahocorasick v0.0.0-20240916140611-054963ec9396
	github.com/importcjj/sensitive v0.0.0-20200106142752-42d1c505be7b
	github.com/qunguan/qunguan v0.0.0-00010101000000-000000000000
)
