// Which conversation a request to Rasa belongs to, so that nginx sends every message of
// one conversation to the same Rasa server (`hash $ventanilla_sender consistent`).
//
// Rasa 3.6's Redis lock store serialises a conversation across servers only
// approximately (it reads, modifies and writes the lock without a transaction), so the
// routing is the first line and the lock store the second. Telegram and Meta send their
// webhooks themselves and cannot add a header, so the key is read where each channel
// puts the sender, which is also the sender id our channels give Rasa:
//   /conversations/<id>/...   Rasa's HTTP API (the backend's notifications)  -> <id>
//   /webhooks/telegram/...    message / edited_message / callback_query      -> chat.id
//   /webhooks/whatsapp/...    entry[0].changes[0].value.messages[0].from
//   any other webhook         {"sender": ...} (REST, callback)
// A request without a sender (WhatsApp's verification GET, a malformed body) gets a
// random key: any server may answer it.
// nginx keeps the body in memory (client_body_buffer_size = client_max_body_size), so
// r.requestText is there when the upstream is chosen.

function telegramSender(update) {
    var message = update.message || update.edited_message || update.channel_post;
    var query = update.callback_query;
    if (!message && query) {
        message = query.message;
    }
    if (message && message.chat && message.chat.id !== undefined) {
        return String(message.chat.id);
    }
    if (query && query.from && query.from.id !== undefined) {
        return String(query.from.id);
    }
    return '';
}

function whatsappSender(payload) {
    var entry = (payload.entry || [])[0] || {};
    var value = ((entry.changes || [])[0] || {}).value || {};
    var message = (value.messages || [])[0];
    if (message && message.from) {
        return String(message.from);
    }
    var status = (value.statuses || [])[0];
    return status && status.recipient_id ? String(status.recipient_id) : '';
}

function senderOf(path, payload) {
    if (payload === null || typeof payload !== 'object') {
        return '';
    }
    if (path.indexOf('/webhooks/telegram/') === 0) {
        return telegramSender(payload);
    }
    if (path.indexOf('/webhooks/whatsapp/') === 0) {
        return whatsappSender(payload);
    }
    return payload.sender === undefined || payload.sender === null ? '' : String(payload.sender);
}

function routeKey(r) {
    var raw = r.variables.request_uri || '';
    var path = raw.split('?')[0];
    var api = /^\/conversations\/([^\/]+)/.exec(path);
    if (api) {
        try {
            return decodeURIComponent(api[1]);
        } catch (e) {
            return api[1];
        }
    }
    var body = r.requestText;
    if (body) {
        try {
            var key = senderOf(path, JSON.parse(body));
            if (key) {
                return key;
            }
        } catch (e) {
            // not JSON: fall through to a random key
        }
    }
    return r.variables.request_id;
}

export default {routeKey};
