// The sio-chat page: one Socket.IO connection to the server that served it.
// Events: see docs/chat.md. Every "chat message" line is shown exactly as the
// server sent it ("port:<p> user:<id> msg:<text>"), the user part coloured.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const messages = $('messages');
  const form = $('form');
  const input = $('input');
  const counter = $('counter');
  const status = $('status');
  const me = $('me');
  const users = $('users');
  const clusterCount = $('cluster-count');
  const count = $('count');
  const usersMore = $('users-more');
  let listed = []; // the names the server last sent (a big chat sends them only when they change)

  const socket = io({ transports: ['websocket', 'polling'] });
  window.chat = { socket }; // for the browser test and the curious

  let maxChars = Number(input.maxLength) || 2000;

  // -- helpers -----------------------------------------------------------------

  function hue(id) {
    let h = 0;
    for (const c of id)
      h = (h * 31 + c.codePointAt(0)) % 360;
    return h;
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className)
      e.className = className;
    if (text !== undefined)
      e.textContent = text;
    return e;
  }

  function timeNow() {
    return new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  }

  /// Appends an entry, keeping the view at the bottom if it was there.
  function append(li) {
    const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
    li.prepend(el('time', 'time', timeNow()));
    messages.append(li);
    while (messages.children.length > 500)
      messages.firstElementChild.remove();
    if (atBottom)
      messages.scrollTop = messages.scrollHeight;
  }

  const LINE_RE = /^(port:\S+ user:(\S+) )msg:([\s\S]*)$/;

  function showMessage(payload, room, history) {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const li = el('li', 'message');
    if (history)
      li.classList.add('history');
    const line = el('span', 'line');
    if (room)
      li.append(el('span', 'room-tag', room));
    const m = LINE_RE.exec(text);
    if (m) {
      // Same text as the server sent, in three parts for styling.
      const who = el('span', 'who', m[1]);
      who.style.setProperty('--hue', hue(m[2]));
      line.append(who, el('span', 'msg-label', 'msg:'), el('span', 'msg', m[3]));
      if (m[2] === socket.id)
        li.classList.add('mine');
    } else {
      line.textContent = text; // e.g. a benchmark's to-room payload
    }
    li.append(line);
    append(li);
  }

  function showNotice(n) {
    const kind = n && typeof n.kind === 'string' ? n.kind : 'info';
    const li = el('li', `notice notice-${kind}`);
    li.append(el('span', 'line', n && n.text ? String(n.text) : ''));
    append(li);
  }

  function setState(state, label) {
    document.body.dataset.state = state;
    status.textContent = label;
    const connected = state === 'connected';
    input.disabled = !connected;
    $('send').disabled = !connected;
  }

  function updateCounter() {
    const left = maxChars - input.value.length;
    counter.textContent = left < maxChars * 0.2 ? String(left) : '';
    counter.classList.toggle('low', left < 50);
  }

  // -- socket ------------------------------------------------------------------

  socket.on('connect', () => {
    document.body.dataset.sid = socket.id;
    me.textContent = 'you are ';
    const b = el('b', 'who', socket.id);
    b.style.setProperty('--hue', hue(socket.id));
    me.append(b);
    setState('connected', 'connected');
    input.focus();
  });

  socket.on('disconnect', (reason) => {
    setState('disconnected', 'disconnected');
    showNotice({ kind: 'error', text: `Disconnected (${reason}); reconnecting…` });
    users.replaceChildren();
    listed = [];
    count.textContent = '0';
  });

  socket.io.on('reconnect_attempt', () => setState('connecting', 'reconnecting…'));
  socket.on('connect_error', () => setState('disconnected', 'cannot connect'));

  socket.on('chat message', (payload) => showMessage(payload));

  // -- rooms (each a room actor on the server that keeps the last 50 lines) ----

  const rooms = $('rooms');
  let currentRoom = ''; // '': everyone

  function selectRoom(room) {
    currentRoom = room;
    for (const li of rooms.children)
      li.classList.toggle('current', li.dataset.room === room);
    input.placeholder = room ? `Message to ${room}` : 'Type a message and press Enter';
  }

  rooms.addEventListener('click', (e) => {
    const li = e.target.closest('li.room');
    if (li)
      selectRoom(li.dataset.room);
  });

  $('room-form').addEventListener('submit', (e) => {
    e.preventDefault();
    let name = $('room-input').value.trim().toLowerCase();
    if (!name)
      return;
    if (!name.startsWith('#'))
      name = `#${name}`;
    socket.timeout(5000).emitWithAck('room join', name).then((ok) => {
      if (!ok)
        return;
      if (![...rooms.children].some((li) => li.dataset.room === name)) {
        const li = el('li', 'room');
        li.dataset.room = name;
        li.append(el('button', '', name));
        li.firstChild.type = 'button';
        rooms.append(li);
      }
      $('room-input').value = '';
      selectRoom(name);
    }).catch(() => {});
  });

  socket.on('room message', (room, line) => showMessage(line, room));
  socket.on('room history', (room, lines) => {
    if (!Array.isArray(lines))
      return;
    showNotice({ kind: 'info', text: lines.length ? `${room}: the last ${lines.length} messages`
                                                  : `${room}: no messages yet` });
    for (const line of lines)
      showMessage(line, room, true);
  });

  socket.on('notice', (n) => {
    if (n && n.kind === 'welcome' && Number(n.maxMessageChars) > 0) {
      maxChars = Number(n.maxMessageChars);
      input.maxLength = maxChars;
      updateCounter();
    }
    showNotice(n);
  });

  socket.on('users', (u) => {
    const total = Number(u && u.count) || 0;
    count.textContent = String(total);
    // A big chat sends the names only when the first hundred changed.
    if (Array.isArray(u && u.users)) {
      listed = u.users;
      users.replaceChildren(...listed.map((id) => {
        const li = el('li', 'user');
        li.style.setProperty('--hue', hue(id));
        li.append(el('span', 'dot'), el('span', 'name', id));
        if (id === socket.id) {
          li.classList.add('me');
          li.append(el('span', 'you', 'you'));
        }
        return li;
      }));
    }
    usersMore.hidden = total <= listed.length;
    usersMore.textContent = `and ${total - listed.length} more`;
    // The list is this server's; "online" counts every node of a cluster.
    const online = Number(u && u.online) || 0;
    clusterCount.hidden = !(online > total);
    clusterCount.textContent = `${online} in the cluster`;
  });

  // -- sending -----------------------------------------------------------------

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || !socket.connected)
      return;
    if (currentRoom)
      socket.emit('room message', currentRoom, text);
    else
      socket.emit('chat message', text);
    input.value = '';
    updateCounter();
  });
  input.addEventListener('input', updateCounter);

  setState('connecting', 'connecting…');
})();
