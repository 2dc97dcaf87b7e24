// The phone side: joins with the code the headset shows (or the join URL its QR code
// holds), then sends difficulties and a slider's value as relay input. Reconnects by
// UUID on the next launch, since a code ends when its display disconnects (clear the
// saved UUID, PlayerPrefs "pairlink.controller.uuid", to join another headset).

using Newtonsoft.Json.Linq;
using Pairlink;
using UnityEngine;

public class PairlinkControllerSample : MonoBehaviour
{
    public string serverUrl = "ws://192.168.1.20:8080";
    /// <summary>The code shown on the headset, or the join URL scanned from its QR code.</summary>
    public string codeOrJoinUrl = "K7M2QX";

    private PairlinkController controller;
    private string status = "connecting";
    private float stick;
    private float sentStick;

    private async void Start()
    {
        string uuid = PlayerPrefs.GetString("pairlink.controller.uuid", "");
        if (uuid.Length > 0) controller = new PairlinkController(serverUrl, uuid);
        else if (codeOrJoinUrl.Contains("/ws/join/")) controller = PairlinkController.FromJoinUrl(codeOrJoinUrl);
        else controller = PairlinkController.Join(serverUrl, codeOrJoinUrl);

        controller.StateChanged += (s, e) => status = e.Current.ToString();
        controller.PeerChanged += (s, peer) => status = peer.Connected ? "headset connected" : "headset away";
        controller.RelayReceived += (s, relay) => status = "headset: " + relay.Data.ToString(Newtonsoft.Json.Formatting.None);
        controller.DrawExpired += (s, expired) => status = "difficulty " + expired.Difficulty + " expired";
        controller.Error += (s, e) => Debug.LogWarning("pairlink: " + e.Exception);
        try
        {
            await controller.ConnectAsync();
            PlayerPrefs.SetString("pairlink.controller.uuid", controller.Uuid);
        }
        catch (PairlinkException e)
        {
            status = "cannot connect: " + e.Code; // unknown_code: ask the headset for its current code
        }
    }

    private async void SendDifficulty(int difficulty)
    {
        try
        {
            DrawStatus answer = await controller.SendDifficultyAsync(difficulty);
            status = "difficulty " + difficulty + ": " + answer;
        }
        catch (PairlinkException e)
        {
            status = "difficulty " + difficulty + " failed: " + e.Code; // display_offline, no_content, …
        }
    }

    private void OnGUI()
    {
        GUILayout.Label(status);
        for (int difficulty = 1; difficulty <= 5; difficulty++)
            if (GUILayout.Button("Difficulty " + difficulty, GUILayout.Height(80))) SendDifficulty(difficulty);
        stick = GUILayout.HorizontalSlider(stick, -1f, 1f);
    }

    private void Update()
    {
        if (controller == null || !controller.State.IsOpen || Mathf.Approximately(stick, sentStick)) return;
        sentStick = stick;
        SendStick(stick);
    }

    private async void SendStick(float x)
    {
        try
        {
            await controller.RelayAsync(new JObject { ["stick"] = x });
        }
        catch (PairlinkException e)
        {
            Debug.LogWarning("input not sent: " + e.Code);
        }
    }

    private void OnApplicationPause(bool paused)
    {
        if (controller == null) return;
        if (paused) controller.Pause();
        else controller.Resume();
    }

    private void OnDestroy()
    {
        if (controller != null) controller.Dispose();
    }
}
