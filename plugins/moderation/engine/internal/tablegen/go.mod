module github.com/qunguan/qunguan/plugins/moderation/engine/internal/tablegen

go 1.26.8

require (
	github.com/longbridgeapp/opencc v0.3.13
	golang.org/x/text v0.43.0
)

require (
	github.com/liuzl/cedar-go v0.0.0-20170805034717-80a9c64b256d // indirect
	github.com/liuzl/da v0.0.0-20180704015230-14771aad5b1d // indirect
)
