package wechat

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mdp/qrterminal/v3"
	"github.com/skip2/go-qrcode"
)

// qrFileName is the login QR code's picture in the data dir, for when the
// terminal is not at hand (a server reached over a web console, or a
// terminal font that breaks the blocks). It is removed after login.
const qrFileName = "login-qr.png"

// loginURL is what the login QR code encodes: scanning it with WeChat on
// the bot account's phone opens the web-login confirmation.
func loginURL(uuid string) string { return "https://login.weixin.qq.com/l/" + uuid }

// writeQRTerminal draws the code with half-block characters, which fits an
// 80-column terminal, followed by the URL for terminals that mangle it.
func writeQRTerminal(w io.Writer, url, pngPath string) error {
	var b bytes.Buffer
	b.WriteString("\n请用机器人账号的微信扫描下面的二维码登录（Scan with the bot account's WeChat to log in）:\n")
	qrterminal.GenerateWithConfig(url, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         &b,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      2,
	})
	fmt.Fprintf(&b, "%s\n", url)
	if pngPath != "" {
		fmt.Fprintf(&b, "二维码图片 / QR picture: %s\n", pngPath)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeQRPNG writes the code as a PNG readable only by the bot's user, by
// way of a temp file so a viewer never shows half a picture.
func writeQRPNG(url, path string) error {
	png, err := qrcode.Encode(url, qrcode.Medium, 320)
	if err != nil {
		return fmt.Errorf("encode QR code: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".qr-*")
	if err != nil {
		return fmt.Errorf("write QR code: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write QR code: %w", err)
	}
	if _, err := tmp.Write(png); err != nil {
		tmp.Close()
		return fmt.Errorf("write QR code: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write QR code: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}
