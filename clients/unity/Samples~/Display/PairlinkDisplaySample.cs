// The headset side: connects as the display, shows its pairing code and QR code, reacts
// to draws and to its controller, and lets pairlink know at once when the headset sleeps.
// Put it on a GameObject; give it a TextMesh for text and a quad's Renderer for the QR code.

using System;
using Newtonsoft.Json.Linq;
using Pairlink;
using UnityEngine;

public class PairlinkDisplaySample : MonoBehaviour
{
    public string serverUrl = "ws://192.168.1.20:8080";
    public TextMesh label;
    public Renderer qrCode;

    private PairlinkDisplay display;

    private async void Start()
    {
        // One UUID per headset, kept across launches, so the phone can reconnect by it.
        string uuid = PlayerPrefs.GetString("pairlink.uuid", Guid.NewGuid().ToString());
        PlayerPrefs.SetString("pairlink.uuid", uuid);

        display = new PairlinkDisplay(serverUrl, uuid);
        display.StateChanged += OnStateChanged;
        display.PeerChanged += (s, peer) => Show(peer.Connected ? "controller connected" : "waiting for the controller");
        display.DrawReceived += OnDraw;
        display.RelayReceived += (s, relay) => Debug.Log("input: " + relay.Data);
        display.Error += (s, e) => Debug.LogWarning("pairlink: " + e.Exception);
        try
        {
            await display.ConnectAsync();
        }
        catch (PairlinkException e)
        {
            Show("cannot connect: " + e.Code);
        }
    }

    private async void OnStateChanged(object sender, StateChangedEventArgs e)
    {
        if (!e.Current.IsOpen)
        {
            Show(e.Current.ToString());
            return;
        }
        // A code ends when the display disconnects, so ask again after every open.
        try
        {
            PairingCode code = await display.GetPairingCodeAsync();
            var texture = new Texture2D(2, 2) { filterMode = FilterMode.Point };
            texture.LoadImage(code.QrPng);
            qrCode.material.mainTexture = texture;
            Show("join with " + code.Code);
        }
        catch (PairlinkException error)
        {
            Show("no pairing code: " + error.Code);
        }
    }

    private async void OnDraw(object sender, Draw draw)
    {
        Show("quizzes " + string.Join(", ", draw.QuizIds) + ", action " + draw.ActionId + (draw.Held ? " (held)" : ""));
        try
        {
            await display.RelayAsync(new JObject { ["showing"] = new JArray(draw.QuizIds) });
        }
        catch (PairlinkException e)
        {
            Debug.LogWarning("could not tell the controller: " + e.Code);
        }
    }

    // The Quest pauses the app when the headset is taken off or sleeps.
    private void OnApplicationPause(bool paused)
    {
        if (display == null) return;
        if (paused) display.Pause();
        else display.Resume();
    }

    private void OnDestroy()
    {
        if (display != null) display.Dispose();
    }

    private void Show(string text)
    {
        if (label != null) label.text = text;
        Debug.Log("pairlink display: " + text);
    }
}
