module github.com/qunguan/qunguan

go 1.26.8

require (
	github.com/eatmoreapple/openwechat v1.4.10
	github.com/fsnotify/fsnotify v1.10.1
	github.com/google/go-cmp v0.7.0
	github.com/mdp/qrterminal/v3 v3.2.1
	github.com/robfig/cron/v3 v3.0.1
	github.com/skip2/go-qrcode v0.0.0-20200617195104-da1b6568686e
	go.etcd.io/bbolt v1.5.0
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/text v0.43.0
	golang.org/x/time v0.16.0
)

require (
	golang.org/x/sys v0.45.0 // indirect
	golang.org/x/term v0.13.0 // indirect
	rsc.io/qr v0.2.0 // indirect
)
