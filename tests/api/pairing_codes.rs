//! Pairing codes: issued to a connected display, looked up, drawn as a QR code of the
//! join URL, used to join as controller, limited against guessing.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use pairlink::protocol::pairing::CODE_ALPHABET;

use crate::deployment::{BrokerKind, Deployment, Options};
use crate::helpers::*;
use crate::on_both_brokers;
use crate::schema;

const UUID: &str = "a4b3c2d1-e5f6-4a7b-8c9d-0e1f2a3b4c5d";

on_both_brokers!(
    a_connected_display_gets_one_live_code_that_leads_to_its_uuid,
    the_qr_code_holds_the_join_url,
    a_controller_joins_by_code_exactly_as_by_uuid,
    codes_end_with_their_display_or_their_time,
    an_address_that_guesses_too_often_is_refused_even_for_live_codes,
    waiting_the_advertised_retry_after_is_enough,
);

/// Asks node `node` for the pairing code of `uuid`'s display.
async fn issue(app: &Deployment, node: usize, uuid: &str) -> HttpReply {
    app.http(node, "POST", &format!("/api/pairings/{uuid}/code")).await
}

/// Renders the SVG and decodes the QR code in it with a QR decoder.
pub fn decode_qr(svg: &str) -> String {
    let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("a valid SVG");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let (width, height) = (pixmap.width() as usize, pixmap.height() as usize);
    decode_grey(width, height, |x, y| {
        pixmap.pixel(x as u32, y as u32).map_or(255, |p| p.red())
    })
}

/// Decodes the one QR code in a greyscale picture.
fn decode_grey(width: usize, height: usize, pixel: impl FnMut(usize, usize) -> u8) -> String {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, pixel);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().expect("the QR code decodes").1
}

/// Decodes a PNG as Unity's `Texture2D.LoadImage` would have to: 8-bit, not interlaced,
/// greyscale or RGB. Returns its side in pixels and the QR code's text.
pub fn decode_png_qr(file: &[u8]) -> (u32, String) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(file))
        .read_info()
        .expect("a PNG");
    let info = reader.info().clone();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    assert!(!info.interlaced);
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::Rgb => 3,
        other => panic!("{other:?} is not what the QR code is promised in"),
    };
    assert_eq!(info.width, info.height, "square");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).unwrap();
    let width = info.width as usize;
    let text = decode_grey(width, info.height as usize, |x, y| pixels[(y * width + x) * channels]);
    (info.width, text)
}

/// A GET whose body may be binary.
async fn get_bytes(app: &Deployment, node: usize, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{}{path}", app.addr(node)))
        .await
        .expect("the server answers")
}

async fn a_connected_display_gets_one_live_code_that_leads_to_its_uuid(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let _display = app.display(UUID).await;

    // On a cluster: issued on the display's node, asked again and looked up on the other.
    let reply = issue(&app, 0, UUID).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    let code = body["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
    assert_eq!(body["uuid"], UUID);
    assert_eq!(body["join_url"], format!("ws://{}/ws/join/{code}", app.addr(0)));
    let expires_at = humantime::parse_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    let ttl = expires_at.duration_since(SystemTime::now()).unwrap();
    assert!(
        ttl > Duration::from_secs(590) && ttl <= Duration::from_secs(600),
        "{ttl:?}"
    );

    // Asking again returns the live code; its join URL names the host this request asked.
    let again = issue(&app, 1, UUID).await.json();
    assert_eq!((&again["code"], &again["uuid"]), (&body["code"], &body["uuid"]));
    assert_eq!(again["join_url"], format!("ws://{}/ws/join/{code}", app.addr(1)));

    for (node, spelled) in [code.clone(), code.to_lowercase()].into_iter().enumerate() {
        let reply = app.http(node, "GET", &format!("/api/pairings/code/{spelled}")).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json(), serde_json::json!({"code": code, "uuid": UUID}));
    }
}

async fn the_qr_code_holds_the_join_url(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let _display = app.display(UUID).await;
    // On a cluster the picture comes from another node than the code: the join URL
    // names the host its client asked.
    let code = issue(&app, 0, UUID).await.json()["code"].as_str().unwrap().to_owned();
    let reply = app.http(1, "GET", &format!("/api/pairings/code/{code}/qr.svg")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("image/svg+xml"));
    let join_url = format!("ws://{}/ws/join/{code}", app.addr(1));
    assert_eq!(decode_qr(&reply.body), join_url);

    let png = get_bytes(&app, 1, &format!("/api/pairings/code/{}/qr.png", code.to_lowercase())).await;
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    let (side, text) = decode_png_qr(&png.bytes().await.unwrap());
    assert_eq!(text, join_url);
    assert!((256..=512).contains(&side), "a small picture: {side} pixels");
    // The phone page, for a camera: asked for, in either picture.
    let page_url = format!("http://{}/join/{code}", app.addr(1));
    let reply = app
        .http(1, "GET", &format!("/api/pairings/code/{code}/qr.svg?target=page"))
        .await;
    assert_eq!(decode_qr(&reply.body), page_url);
    let png = get_bytes(&app, 1, &format!("/api/pairings/code/{code}/qr.png?target=page")).await;
    assert_eq!(decode_png_qr(&png.bytes().await.unwrap()).1, page_url);
    let issued = issue(&app, 1, UUID).await.json();
    assert_eq!(issued["page_url"], page_url.as_str());
    let bad = app
        .http(1, "GET", &format!("/api/pairings/code/{code}/qr.svg?target=phone"))
        .await;
    assert_eq!((bad.status, bad.json()["code"].as_str()), (400, Some("invalid_target")));

    let public = Deployment::with(
        broker,
        Options::new().config(|config| {
            config.codes.public_url = Some("https://play.example.com/".parse().unwrap());
        }),
    )
    .await;
    let _display = public.display(UUID).await;
    let issued = issue(&public, 0, UUID).await.json();
    let code = issued["code"].as_str().unwrap().to_owned();
    let join_url = format!("wss://play.example.com/ws/join/{code}");
    assert_eq!(issued["join_url"], join_url.as_str());
    let reply = public
        .http(1, "GET", &format!("/api/pairings/code/{code}/qr.svg"))
        .await;
    assert_eq!(decode_qr(&reply.body), join_url);
    let png = get_bytes(&public, 1, &format!("/api/pairings/code/{code}/qr.png")).await;
    assert_eq!(decode_png_qr(&png.bytes().await.unwrap()).1, join_url);
}

async fn a_controller_joins_by_code_exactly_as_by_uuid(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let mut display = app.display(UUID).await;
    let code = issue(&app, 0, UUID).await.json()["code"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let mut controller = connect(&app.url(1, &format!("/ws/join/{code}"))).await.expect("joins");
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    let draw = next_json(&mut display).await;
    schema::assert_message("v1.draw", &draw);
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    // It is the UUID's controller: a controller connecting by UUID (on a cluster, on
    // another node) replaces it.
    let _by_uuid = app.controller_on(0, UUID).await;
    assert_eq!(u16::from(next_close(&mut controller).await.code), 4001);
}

async fn codes_end_with_their_display_or_their_time(broker: BrokerKind) {
    let options = Options::new().config(|config| config.codes.ttl = Duration::from_millis(300));
    let app = Deployment::with(broker, options).await;
    // On a cluster, every request but the display's goes to the other node.
    let (status, body) = (issue(&app, 1, UUID).await.status, issue(&app, 1, UUID).await.json());
    assert_eq!((status, body["code"].as_str()), (409, Some("display_offline")));
    schema::assert_message("HttpRefusal", &body);
    let invalid = issue(&app, 1, "not-a-uuid").await;
    assert_eq!(invalid.status, 400);
    schema::assert_message("HttpRefusal", &invalid.json());

    let mut display = app.display(UUID).await;
    let code = issue(&app, 1, UUID).await.json()["code"].as_str().unwrap().to_owned();
    display.close(None).await.unwrap();
    let _ = next(&mut display).await;
    let reply = app.http(1, "GET", &format!("/api/pairings/code/{code}")).await;
    assert_eq!(
        (reply.status, reply.json()["code"].as_str()),
        (404, Some("unknown_code"))
    );
    let (status, body) = refusal(&app.url(1, &format!("/ws/join/{code}"))).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("unknown_code")));
    schema::assert_message("HttpRefusal", &body);

    let _display = app.display(UUID).await;
    let code = issue(&app, 1, UUID).await.json()["code"].as_str().unwrap().to_owned();
    // The code's lifetime passing is the event itself: nothing announces it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        app.http(1, "GET", &format!("/api/pairings/code/{code}")).await.status,
        404
    );
    let fresh = issue(&app, 1, UUID).await.json();
    assert_eq!(
        app.http(
            1,
            "GET",
            &format!("/api/pairings/code/{}", fresh["code"].as_str().unwrap())
        )
        .await
        .status,
        200
    );
}

async fn an_address_that_guesses_too_often_is_refused_even_for_live_codes(broker: BrokerKind) {
    let options = Options::new().config(|config| config.codes.guesses = "4/1m".parse().unwrap());
    let app = Deployment::with(broker, options).await;
    let _display = app.display(UUID).await;
    let live = issue(&app, 0, UUID).await.json()["code"].as_str().unwrap().to_owned();
    let guesser: IpAddr = [127, 0, 0, 2].into();
    let neighbour: IpAddr = [127, 0, 0, 3].into();

    // Malformed and unknown codes, by lookup, QR or join: each is a miss. On a cluster
    // the guesser's requests take turns between the nodes, as behind a load balancer.
    for (node, path) in [
        "/api/pairings/code/AAAAAA",
        "/api/pairings/code/0OIL1x/qr.svg",
        "/api/pairings/code/CCCCCC/qr.png",
        "/ws/join/BBBBBB",
    ]
    .into_iter()
    .enumerate()
    {
        let reply = app.http_from(guesser, node, "GET", path).await;
        assert_eq!(
            (reply.status, reply.json()["code"].as_str()),
            (404, Some("unknown_code")),
            "{path}"
        );
    }
    let refused = app
        .http_from(guesser, 3, "GET", &format!("/api/pairings/code/{live}"))
        .await;
    assert_eq!(
        (refused.status, refused.json()["code"].as_str()),
        (429, Some("too_many_guesses"))
    );
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let refused = app
        .http_from(guesser, 0, "GET", &format!("/api/pairings/code/{live}/qr.png"))
        .await;
    assert_eq!(
        (refused.status, refused.json()["code"].as_str()),
        (429, Some("too_many_guesses"))
    );
    // Another address is not affected.
    assert_eq!(
        app.http_from(neighbour, 1, "GET", &format!("/api/pairings/code/{live}"))
            .await
            .status,
        200
    );
}

/// `Retry-After` is rounded up, never down: a client that waits exactly what it was told
/// is let in. With a window of 1.5 s, rounding down would say 1 s, too early.
async fn waiting_the_advertised_retry_after_is_enough(broker: BrokerKind) {
    let options = Options::new().config(|config| config.codes.guesses = "1/1500ms".parse().unwrap());
    let app = Deployment::with(broker, options).await;
    let guesser: IpAddr = [127, 0, 0, 4].into();
    assert_eq!(
        app.http_from(guesser, 0, "GET", "/api/pairings/code/AAAAAA")
            .await
            .status,
        404
    );
    let refused = app.http_from(guesser, 0, "GET", "/api/pairings/code/AAAAAA").await;
    assert_eq!(refused.status, 429);
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(
        app.http_from(guesser, 0, "GET", "/api/pairings/code/AAAAAA")
            .await
            .status,
        404,
        "after waiting Retry-After, the address has its budget back"
    );
}
